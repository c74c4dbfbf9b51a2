import { EvaluationError, parseTemplate, TemplateEvaluator } from '../../src/index.js';

const t = parseTemplate(
  `Parameters:
  Name: { Type: String, Default: '' }
  Mode: { Type: String, Default: a, AllowedValues: [a, b] }
  Subnets: { Type: CommaDelimitedList, Default: '' }
Conditions:
  HasName: !Not [!Equals [!Ref Name, '']]
  IsB: !Equals [!Ref Mode, b]
  Both: !And [!Condition HasName, !Condition IsB]
Mappings:
  M:
    K: { V: mapped }
Resources:
  Q:
    Type: AWS::SQS::Queue
    Condition: HasName
    Properties:
      QueueName: !If [HasName, !Ref Name, !Ref AWS::NoValue]
      Tags:
        - Key: k
          Value: !Sub '\${AWS::StackName}-\${Name}-\${Q.Arn}'
        - !If [Both, { Key: both, Value: !FindInMap [M, K, V] }, !Ref AWS::NoValue]
        - Key: id
          Value: !Select [0, !Split ['-', !Select [2, !Split ['/', !Ref AWS::StackId]]]]
`,
  'inline',
);

describe('TemplateEvaluator', () => {
  it('evaluates conditions, drops AWS::NoValue and substitutes names', () => {
    const e = new TemplateEvaluator(t, {
      parameters: { Name: 'feed', Mode: 'b' },
      attributes: { 'Q.Arn': 'arn:q' },
    });
    expect(e.exists('Q')).toBe(true);
    expect(e.value(t.Resources.Q?.Properties)).toEqual({
      QueueName: 'feed',
      Tags: [
        { Key: 'k', Value: 'connect-wfm-test-feed-arn:q' },
        { Key: 'both', Value: 'mapped' },
        { Key: 'id', Value: '0f6a1e60' },
      ],
    });
  });

  it('uses the defaults when a parameter is not given', () => {
    const e = new TemplateEvaluator(t);
    expect(e.exists('Q')).toBe(false);
    expect(e.value(t.Resources.Q?.Properties?.QueueName)).toBe(e.value({ Ref: 'AWS::NoValue' }));
    expect(e.condition('Both')).toBe(false);
  });

  it('names what it cannot evaluate', () => {
    const e = new TemplateEvaluator(t);
    expect(() => e.parameter('Missing')).toThrow(EvaluationError);
    expect(() => e.condition('Nope')).toThrow(/no condition Nope/);
    expect(() => e.value({ 'Fn::GetAZs': '' })).toThrow(/unsupported function Fn::GetAZs/);
  });
});
